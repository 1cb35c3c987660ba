#version 330 core
// The 8-bit B-mode image, uploaded as an R8 texture, shown as grey levels 0..255 unchanged:
// the scanner's log compression and gain already happened in the synthesis.
in vec2 v_uv;
uniform sampler2D u_image;
out vec4 o_color;
void main()
{
    float g = texture(u_image, v_uv).r;
    o_color = vec4(g, g, g, 1.0);
}
