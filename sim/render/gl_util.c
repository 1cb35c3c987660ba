/* gl_util: shader programs from the embedded sources, GL error draining. */
#include "gl_util.h"

#include <stdio.h>
#include <string.h>

#include "shaders.h"

const char *shader_find(const char *name)
{
    for (int i = 0; i < shader_source_count; i++)
        if (!strcmp(shader_sources[i].name, name))
            return shader_sources[i].text;
    return NULL;
}

static GLuint compile(GLenum kind, const char *name, char *err, size_t err_len)
{
    const char *src = shader_find(name);
    if (!src) {
        snprintf(err, err_len, "shader %s is not among the embedded shaders", name);
        return 0;
    }
    GLuint sh = glCreateShader(kind);
    glShaderSource(sh, 1, &src, NULL);
    glCompileShader(sh);
    GLint ok = 0;
    glGetShaderiv(sh, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        char log[1024] = "";
        glGetShaderInfoLog(sh, sizeof log, NULL, log);
        snprintf(err, err_len, "shaders/%s does not compile: %s", name, log);
        glDeleteShader(sh);
        return 0;
    }
    return sh;
}

GLuint gl_program(const char *vert, const char *frag, char *err, size_t err_len)
{
    GLuint vs = compile(GL_VERTEX_SHADER, vert, err, err_len);
    if (!vs)
        return 0;
    GLuint fs = compile(GL_FRAGMENT_SHADER, frag, err, err_len);
    if (!fs) {
        glDeleteShader(vs);
        return 0;
    }
    GLuint prog = glCreateProgram();
    glAttachShader(prog, vs);
    glAttachShader(prog, fs);
    glLinkProgram(prog);
    glDeleteShader(vs);
    glDeleteShader(fs);
    GLint ok = 0;
    glGetProgramiv(prog, GL_LINK_STATUS, &ok);
    if (!ok) {
        char log[1024] = "";
        glGetProgramInfoLog(prog, sizeof log, NULL, log);
        snprintf(err, err_len, "shaders/%s + %s do not link: %s", vert, frag, log);
        glDeleteProgram(prog);
        return 0;
    }
    return prog;
}

int gl_errors(const char *where, char *err, size_t err_len)
{
    int n = 0;
    for (GLenum e; (e = glGetError()) != GL_NO_ERROR && n < 64;) {
        if (n == 0 && err && err_len)
            snprintf(err, err_len, "GL error 0x%04x at %s", (unsigned)e, where);
        n++;
    }
    return n;
}
