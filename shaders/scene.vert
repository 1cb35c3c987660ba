#version 330 core
// The outside view: skin block, probe, imaging plane, needle, deposits. World frame is the
// phantom frame turned so that up is out of the body (see sim/render/outside_view.c).
layout(location = 0) in vec3 a_pos;
layout(location = 1) in vec3 a_normal;
layout(location = 2) in vec4 a_color;
uniform mat4 u_mvp;
out vec3 v_normal;
out vec4 v_color;
void main()
{
    gl_Position = u_mvp * vec4(a_pos, 1.0);
    v_normal = a_normal;
    v_color = a_color;
}
