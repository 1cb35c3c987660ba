#version 330 core
// A textured rectangle in window pixels (the B-mode view and the debrief snapshots).
layout(location = 0) in vec2 a_pos_px;
layout(location = 1) in vec2 a_uv;
uniform vec2 u_viewport_px;
out vec2 v_uv;
void main()
{
    vec2 ndc = a_pos_px / u_viewport_px * 2.0 - 1.0;
    gl_Position = vec4(ndc.x, -ndc.y, 0.0, 1.0);
    v_uv = a_uv;
}
