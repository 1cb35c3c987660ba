#version 330 core
// One directional light plus ambient; enough to read shapes, cheap on a software rasteriser.
in vec3 v_normal;
in vec4 v_color;
uniform vec3 u_light_dir;
uniform float u_alpha; // 1, or less for the ghost pass that shows what is under the skin
out vec4 o_color;
void main()
{
    float lit = 0.45 + 0.55 * abs(dot(normalize(v_normal), u_light_dir));
    o_color = vec4(v_color.rgb * lit, v_color.a * u_alpha);
}
