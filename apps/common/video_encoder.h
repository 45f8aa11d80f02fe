/* video_encoder: RGB frames to a video file through FFmpeg's libraries, in
 * the order of FFmpeg's doc/examples/mux.c. The container follows the file
 * name (.mp4, .mkv, .webm in any case; "-" is Matroska on stdout); H.264
 * (libx264) by default, VP9 for WebM. MP4 is always fragmented with its
 * index first, so a killed writer leaves a playable file. In stream mode the
 * file plays while it grows (fragments or Matroska clusters each half
 * second, a keyframe every half second, no B-frames, no encoder look-ahead).
 * Used by every app: one copy of this code. */
#ifndef WORLDKV_VIDEO_ENCODER_H
#define WORLDKV_VIDEO_ENCODER_H

#include <stddef.h>
#include <stdint.h>

typedef struct venc venc;

typedef struct venc_options {
    const char *path;   /* file, or "-" for stdout */
    int width, height;  /* even sizes (4:2:0) */
    int fps;
    int crf;            /* quality: lower is better; 0 picks 23 (H.264) or 32 (VP9) */
    int stream;         /* playable while growing */
} venc_options;

/* 0 when path names a container venc writes; else -1, with a message that
 * says what would work (a missing extension; a PNG sequence, where the
 * caller writes those: png_sequence_too). */
int venc_check_path(const char *path, int png_sequence_too, char *err, size_t err_size);
int venc_open(const venc_options *o, venc **out, char *err, size_t err_size);
/* Encodes one width x height RGB8 frame (top row first). */
int venc_write(venc *v, const uint8_t *rgb, char *err, size_t err_size);
/* Flushes, writes the trailer and frees (also after an error: the file
 * then holds what was written, and stream-mode files still play). */
int venc_close(venc *v, char *err, size_t err_size);
int64_t venc_frames(const venc *v);

#endif
