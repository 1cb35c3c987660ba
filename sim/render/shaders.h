/* shaders: the GLSL sources of shaders/, embedded at build time (cmake/embed_shaders.cmake).
 *
 * The program carries its shaders, so a window never fails for a missing or stale shader
 * file; editing a file in shaders/ rebuilds the table. Sources are static strings. */
#ifndef MESOSIM_SHADERS_H
#define MESOSIM_SHADERS_H

typedef struct shader_source {
    const char *name; /* file name in shaders/, e.g. "ui.vert" */
    const char *text;
} shader_source;

extern const shader_source shader_sources[];
extern const int shader_source_count;

/* The source of a shader file, NULL when there is none of that name. */
const char *shader_find(const char *name);

#endif
