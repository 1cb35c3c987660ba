/* image_view: R8 textures of grey images and a textured rectangle to show them. */
#include "image_view.h"

#include <stdlib.h>

#include <epoxy/gl.h>

#include "gl_util.h"

struct image_view {
    GLuint prog, vao, vbo;
    GLint u_viewport, u_image;
};

image_view *image_view_create(char *err, size_t err_len)
{
    image_view *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->prog = gl_program("image.vert", "image.frag", err, err_len);
    if (!v->prog) {
        free(v);
        return NULL;
    }
    v->u_viewport = glGetUniformLocation(v->prog, "u_viewport_px");
    v->u_image = glGetUniformLocation(v->prog, "u_image");
    glGenVertexArrays(1, &v->vao);
    glGenBuffers(1, &v->vbo);
    glBindVertexArray(v->vao);
    glBindBuffer(GL_ARRAY_BUFFER, v->vbo);
    glBufferData(GL_ARRAY_BUFFER, 16 * sizeof(float), NULL, GL_STREAM_DRAW);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 4 * sizeof(float), (void *)0);
    glVertexAttribPointer(1, 2, GL_FLOAT, GL_FALSE, 4 * sizeof(float), (void *)(2 * sizeof(float)));
    glEnableVertexAttribArray(0);
    glEnableVertexAttribArray(1);
    glBindVertexArray(0);
    return v;
}

void image_view_destroy(image_view *v)
{
    if (!v)
        return;
    glDeleteProgram(v->prog);
    glDeleteBuffers(1, &v->vbo);
    glDeleteVertexArrays(1, &v->vao);
    free(v);
}

void image_tex_upload(image_tex *t, const uint8_t *pixels, int w, int h)
{
    if (!t->id) {
        GLuint id;
        glGenTextures(1, &id);
        t->id = id;
        glBindTexture(GL_TEXTURE_2D, id);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
        t->w = t->h = 0;
    }
    glBindTexture(GL_TEXTURE_2D, t->id);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    if (t->w != w || t->h != h) {
        glTexImage2D(GL_TEXTURE_2D, 0, GL_R8, w, h, 0, GL_RED, GL_UNSIGNED_BYTE, pixels);
        t->w = w;
        t->h = h;
    } else {
        glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, w, h, GL_RED, GL_UNSIGNED_BYTE, pixels);
    }
}

void image_tex_destroy(image_tex *t)
{
    if (t->id) {
        GLuint id = t->id;
        glDeleteTextures(1, &id);
    }
    t->id = 0;
    t->w = t->h = 0;
}

void image_view_draw(image_view *v, const image_tex *t, float x, float y, float w, float h,
                     int fb_w, int fb_h)
{
    if (!t->id)
        return;
    /* Texture row 0 (the probe face) at the top edge of the rectangle. */
    const float quad[16] = {x, y, 0, 0, x + w, y, 1, 0, x, y + h, 0, 1, x + w, y + h, 1, 1};
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_BLEND);
    glUseProgram(v->prog);
    glUniform2f(v->u_viewport, (float)fb_w, (float)fb_h);
    glUniform1i(v->u_image, 0);
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D, t->id);
    glBindVertexArray(v->vao);
    glBindBuffer(GL_ARRAY_BUFFER, v->vbo);
    glBufferSubData(GL_ARRAY_BUFFER, 0, sizeof quad, quad);
    glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
    glBindVertexArray(0);
}
