#include "image_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
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

/* Larger pictures are refused before they are decoded: a 64 x 64 start
 * frame is not worth the gigabyte a 16,000 x 16,000 PNG needs. 64 MP still
 * takes any camera's photo. */
#define IMAGE_MAX_PIXELS (64 << 20)

int image_read_rgb(const char *path, int width, int height, uint8_t *rgb, char *err, size_t err_size)
{
    AVFormatContext *fmt = NULL;
    AVCodecContext *ctx = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    struct SwsContext *sws = NULL;
    int status = -1, rc, got = 0;
    if (!pkt || !frame) {
        snprintf(err, err_size, "out of memory");
        goto done;
    }
    if ((rc = avformat_open_input(&fmt, path, NULL, NULL)) < 0) {
        char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
        av_strerror(rc, buf, sizeof buf);
        snprintf(err, err_size, "cannot open image %s: %s", path, buf);
        goto done;
    }
    /* the probe decodes too: cap its pictures, so a huge image never gets its buffers */
    AVDictionary **probe = calloc(fmt->nb_streams ? fmt->nb_streams : 1, sizeof *probe);
    for (unsigned i = 0; probe && i < fmt->nb_streams; i++)
        av_dict_set_int(&probe[i], "max_pixels", IMAGE_MAX_PIXELS, 0);
    rc = probe ? avformat_find_stream_info(fmt, probe) : AVERROR(ENOMEM);
    for (unsigned i = 0; probe && i < fmt->nb_streams; i++)
        av_dict_free(&probe[i]);
    free(probe);
    if (rc < 0) {
        snprintf(err, err_size, "%s: not an image FFmpeg can read", path);
        goto done;
    }
    int stream = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    const AVCodecParameters *par = stream >= 0 ? fmt->streams[stream]->codecpar : NULL;
    if (par && (int64_t)par->width * par->height > IMAGE_MAX_PIXELS) {
        snprintf(err, err_size, "%s is %d x %d: more than %d megapixels; scale it down first (the model sees %d x %d)",
                 path, par->width, par->height, IMAGE_MAX_PIXELS >> 20, width, height);
        goto done;
    }
    const AVCodec *codec = par ? avcodec_find_decoder(par->codec_id) : NULL;
    if (codec && (ctx = avcodec_alloc_context3(codec)))
        ctx->max_pixels = IMAGE_MAX_PIXELS;
    if (!codec || !ctx || avcodec_parameters_to_context(ctx, par) < 0 || avcodec_open2(ctx, codec, NULL) < 0) {
        snprintf(err, err_size, "%s: no image in it that FFmpeg can decode", path);
        goto done;
    }
    while (!got && av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index == stream && avcodec_send_packet(ctx, pkt) >= 0)
            got = avcodec_receive_frame(ctx, frame) >= 0;
        av_packet_unref(pkt);
    }
    if (!got && avcodec_send_packet(ctx, NULL) >= 0) /* drain: single images may need it */
        got = avcodec_receive_frame(ctx, frame) >= 0;
    if (!got || frame->width < 1 || frame->height < 1) {
        snprintf(err, err_size, "%s: could not decode an image (damaged, or larger than %d megapixels)", path,
                 IMAGE_MAX_PIXELS >> 20);
        goto done;
    }
    sws = sws_getContext(frame->width, frame->height, (enum AVPixelFormat)frame->format, width, height,
                         AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
    uint8_t *dst[4] = {rgb, NULL, NULL, NULL};
    int stride[4] = {3 * width, 0, 0, 0};
    if (!sws || sws_scale(sws, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height, dst, stride) !=
                    height) {
        snprintf(err, err_size, "%s: cannot convert the image to RGB", path);
        goto done;
    }
    status = 0;
done:
    sws_freeContext(sws);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    avformat_close_input(&fmt);
    return status;
}
