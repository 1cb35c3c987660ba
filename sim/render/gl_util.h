/* gl_util: the small OpenGL helpers the views share: building a program from the embedded
 * shaders with readable errors, and draining the GL error queue.
 *
 * Every function needs a current OpenGL 3.3 core context (libepoxy resolves the entry
 * points). Programs returned belong to the caller (glDeleteProgram). */
#ifndef MESOSIM_GL_UTIL_H
#define MESOSIM_GL_UTIL_H

#include <stddef.h>

#include <epoxy/gl.h>

/* Compiles and links vert + frag (names of files in shaders/). 0 with a message in err
 * naming the file and the compiler's log on failure. */
GLuint gl_program(const char *vert, const char *frag, char *err, size_t err_len);

/* Number of GL errors pending (drains the queue); the first is described in err (may be
 * NULL) with where. */
int gl_errors(const char *where, char *err, size_t err_len);

#endif
