#include "image_io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>

#include "file_util.h"

static void av_message(char *err, size_t n, const char *what, int code)
{
    char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(code, buf, sizeof buf);
    snprintf(err, n, "%s: %s", what, buf);
}

int image_encode_png(const uint8_t *rgb, int width, int height, uint8_t **out, size_t *out_size, char *err,
                     size_t err_size)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
    if (!codec) {
        snprintf(err, err_size, "this FFmpeg build has no PNG encoder");
        return -1;
    }
    AVCodecContext *ctx = avcodec_alloc_context3(codec);
    AVFrame *frame = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    int status = -1, rc;
    if (!ctx || !frame || !pkt) {
        snprintf(err, err_size, "out of memory in the PNG encoder");
        goto done;
    }
    ctx->width = width;
    ctx->height = height;
    ctx->pix_fmt = AV_PIX_FMT_RGB24;
    ctx->time_base = (AVRational){1, 1};
    if ((rc = avcodec_open2(ctx, codec, NULL)) < 0) {
        av_message(err, err_size, "cannot open the PNG encoder", rc);
        goto done;
    }
    frame->format = AV_PIX_FMT_RGB24;
    frame->width = width;
    frame->height = height;
    /* the encoder only reads the frame, so it can point at the caller's pixels */
    frame->data[0] = (uint8_t *)rgb;
    frame->linesize[0] = width * 3;
    if ((rc = avcodec_send_frame(ctx, frame)) < 0 || (rc = avcodec_receive_packet(ctx, pkt)) < 0) {
        av_message(err, err_size, "PNG encoding failed", rc);
        goto done;
    }
    *out = av_malloc((size_t)pkt->size);
    if (!*out) {
        snprintf(err, err_size, "out of memory in the PNG encoder");
        goto done;
    }
    memcpy(*out, pkt->data, (size_t)pkt->size);
    *out_size = (size_t)pkt->size;
    status = 0;
done:
    frame->data[0] = NULL;
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
    return status;
}

int image_write_png(const char *path, const uint8_t *rgb, int width, int height, char *err, size_t err_size)
{
    uint8_t *png = NULL;
    size_t size = 0;
    if (image_encode_png(rgb, width, height, &png, &size, err, err_size) != 0)
        return -1;
    int status = file_write_all(path, png, size, err, err_size);
    av_free(png);
    return status;
}
