#include "video_encoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

struct venc {
    AVFormatContext *fmt;
    AVCodecContext *enc;
    AVStream *stream;
    AVFrame *frame;
    AVPacket *pkt;
    struct SwsContext *sws;
    int64_t next_pts;
    int header_written;
    int stream_mode;
    char path[1024];
};

static void av_message(char *err, size_t n, const char *what, const char *path, int code)
{
    char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(code, buf, sizeof buf);
    if (code == AVERROR(ENOSPC))
        snprintf(err, n, "%s %s: the disk is full (%s)", what, path, buf);
    else if (code == AVERROR(EPIPE))
        snprintf(err, n, "%s %s: the reader closed the pipe (%s)", what, path, buf);
    else
        snprintf(err, n, "%s %s: %s", what, path, buf);
}

/* Extensions are matched in any case: a camera's CLIP.MP4 is an MP4. */
static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && !strcasecmp(s + a - b, tail);
}

int venc_check_path(const char *path, int png_sequence_too, char *err, size_t n)
{
    if (!strcmp(path, "-") || ends_with(path, ".mp4") || ends_with(path, ".mkv") || ends_with(path, ".webm"))
        return 0;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *png = png_sequence_too ? ", NAME%05d.png (a PNG per frame)" : "";
    if (ends_with(path, ".png") || ends_with(path, ".jpg") || ends_with(path, ".jpeg"))
        snprintf(err, n, "'%s' names one image, and a video is many frames: write %s%s", path,
                 png_sequence_too ? "a PNG per frame with a number in the name (NAME%05d.png), or " : "",
                 "a video (.mp4, .mkv, .webm)");
    else if (!strchr(base, '.'))
        snprintf(err, n, "'%s' has no extension, so its format is unknown: did you mean %s.mp4? (or .mkv, .webm%s, "
                         "or - for Matroska on stdout)", path, path, png);
    else
        snprintf(err, n, "cannot tell the video format of '%s': use .mp4, .mkv, .webm%s or - (Matroska to stdout)",
                 path, png);
    return -1;
}

/* Sends one frame (or NULL to flush) and writes every packet that comes out. */
static int encode(venc *v, AVFrame *frame, char *err, size_t n)
{
    int rc = avcodec_send_frame(v->enc, frame);
    if (rc < 0) {
        av_message(err, n, "cannot encode a frame for", v->path, rc);
        return -1;
    }
    for (;;) {
        rc = avcodec_receive_packet(v->enc, v->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0) {
            av_message(err, n, "cannot encode a frame for", v->path, rc);
            return -1;
        }
        v->pkt->duration = 1; /* one frame, so the last packet of a file or fragment is not guessed */
        av_packet_rescale_ts(v->pkt, v->enc->time_base, v->stream->time_base);
        v->pkt->stream_index = v->stream->index;
        rc = av_interleaved_write_frame(v->fmt, v->pkt);
        if (rc < 0) {
            av_message(err, n, "cannot write", v->path, rc);
            return -1;
        }
        if (v->stream_mode && v->fmt->pb)
            avio_flush(v->fmt->pb); /* readers of a growing file see each fragment at once */
        if (v->fmt->pb && v->fmt->pb->error < 0) {
            av_message(err, n, "cannot write", v->path, v->fmt->pb->error);
            return -1;
        }
    }
}

static void free_all(venc *v)
{
    sws_freeContext(v->sws);
    av_packet_free(&v->pkt);
    av_frame_free(&v->frame);
    avcodec_free_context(&v->enc);
    if (v->fmt) {
        if (v->fmt->pb && !(v->fmt->oformat->flags & AVFMT_NOFILE))
            avio_closep(&v->fmt->pb);
        avformat_free_context(v->fmt);
    }
    free(v);
}

int venc_open(const venc_options *o, venc **out, char *err, size_t n)
{
    *out = NULL;
    if (!o->path || o->width < 2 || o->height < 2 || o->width % 2 || o->height % 2 || o->fps < 1 || o->fps > 1000) {
        snprintf(err, n, "video: need a path, even width and height, and 1..1000 frames/s");
        return -1;
    }
    venc *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    snprintf(v->path, sizeof v->path, "%s", o->path);
    v->stream_mode = o->stream;
    av_log_set_level(AV_LOG_ERROR); /* the encoders' statistics are not for users */
    int to_stdout = !strcmp(o->path, "-");
    const char *format = to_stdout ? "matroska" : NULL;
    int webm = ends_with(o->path, ".webm"), mp4 = ends_with(o->path, ".mp4");
    if (venc_check_path(o->path, 0, err, n) != 0) {
        free(v);
        return -1;
    }
    if (!to_stdout)
        format = mp4 ? "mp4" : webm ? "webm" : "matroska"; /* FFmpeg guesses from lower-case names only */
    int rc = avformat_alloc_output_context2(&v->fmt, NULL, format, to_stdout ? NULL : o->path);
    if (rc < 0 || !v->fmt) {
        av_message(err, n, "cannot set up the video", o->path, rc);
        free_all(v);
        return -1;
    }
    const AVCodec *codec = avcodec_find_encoder_by_name(webm ? "libvpx-vp9" : "libx264");
    if (!codec) {
        snprintf(err, n, "this FFmpeg has no %s encoder", webm ? "VP9 (libvpx-vp9)" : "H.264 (libx264)");
        free_all(v);
        return -1;
    }
    v->stream = avformat_new_stream(v->fmt, NULL);
    v->enc = avcodec_alloc_context3(codec);
    v->frame = av_frame_alloc();
    v->pkt = av_packet_alloc();
    if (!v->stream || !v->enc || !v->frame || !v->pkt) {
        snprintf(err, n, "out of memory");
        free_all(v);
        return -1;
    }
    v->enc->width = o->width;
    v->enc->height = o->height;
    v->enc->time_base = (AVRational){1, o->fps};
    v->enc->framerate = (AVRational){o->fps, 1};
    v->enc->pix_fmt = AV_PIX_FMT_YUV420P;
    v->enc->gop_size = o->stream ? (o->fps + 1) / 2 : 10 * o->fps; /* the live edge lags at most a GOP */
    v->enc->max_b_frames = o->stream ? 0 : 2;
    v->stream->time_base = v->enc->time_base;
    if (v->fmt->oformat->flags & AVFMT_GLOBALHEADER)
        v->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    char crf[16];
    snprintf(crf, sizeof crf, "%d", o->crf > 0 ? o->crf : (webm ? 32 : 23));
    av_opt_set(v->enc->priv_data, "crf", crf, 0);
    if (webm) {
        av_opt_set(v->enc->priv_data, "deadline", "realtime", 0);
        av_opt_set(v->enc->priv_data, "cpu-used", "8", 0);
        av_opt_set_int(v->enc, "b", 0, 0); /* constant quality */
        if (o->stream) /* libvpx holds 25 frames back by default (alt-ref look-ahead): 1.25 s of live edge */
            av_opt_set_int(v->enc->priv_data, "lag-in-frames", 0, 0);
    } else {
        av_opt_set(v->enc->priv_data, "preset", "veryfast", 0);
        if (o->stream)
            av_opt_set(v->enc->priv_data, "tune", "zerolatency", 0);
    }
    if ((rc = avcodec_open2(v->enc, codec, NULL)) < 0 ||
        (rc = avcodec_parameters_from_context(v->stream->codecpar, v->enc)) < 0) {
        av_message(err, n, "cannot open the encoder for", o->path, rc);
        free_all(v);
        return -1;
    }
    v->frame->format = v->enc->pix_fmt;
    v->frame->width = o->width;
    v->frame->height = o->height;
    if ((rc = av_frame_get_buffer(v->frame, 0)) < 0) {
        av_message(err, n, "cannot allocate a frame for", o->path, rc);
        free_all(v);
        return -1;
    }
    v->sws = sws_getContext(o->width, o->height, AV_PIX_FMT_RGB24, o->width, o->height, AV_PIX_FMT_YUV420P,
                            SWS_BILINEAR, NULL, NULL, NULL);
    if (!v->sws) {
        snprintf(err, n, "cannot set up the colour conversion");
        free_all(v);
        return -1;
    }
    if (!(v->fmt->oformat->flags & AVFMT_NOFILE)) {
        rc = avio_open(&v->fmt->pb, to_stdout ? "pipe:1" : o->path, AVIO_FLAG_WRITE);
        if (rc < 0) {
            av_message(err, n, "cannot create", o->path, rc);
            free_all(v);
            return -1;
        }
    }
    AVDictionary *opts = NULL;
    if (o->stream)
        v->fmt->flags |= AVFMT_FLAG_FLUSH_PACKETS;
    /* Every MP4 is fragmented, the index (moov) first: a crash or a kill
     * leaves every finished fragment playable, and a browser can start at
     * once. A stream cuts a fragment at each keyframe (half a second); a
     * file also after each second. */
    if (mp4) {
        av_dict_set(&opts, "movflags", "frag_keyframe+empty_moov+default_base_moof", 0);
        if (!o->stream)
            av_dict_set(&opts, "frag_duration", "1000000", 0);
    }
    if (o->stream && !mp4)
        av_dict_set(&opts, "cluster_time_limit", "500", 0); /* Matroska: a cluster per half second */
    rc = avformat_write_header(v->fmt, &opts);
    av_dict_free(&opts);
    if (rc < 0) {
        av_message(err, n, "cannot write the header of", o->path, rc);
        free_all(v);
        return -1;
    }
    v->header_written = 1;
    *out = v;
    return 0;
}

int venc_write(venc *v, const uint8_t *rgb, char *err, size_t n)
{
    int rc = av_frame_make_writable(v->frame);
    if (rc < 0) {
        av_message(err, n, "cannot encode a frame for", v->path, rc);
        return -1;
    }
    const uint8_t *src[4] = {rgb, NULL, NULL, NULL};
    int stride[4] = {3 * v->enc->width, 0, 0, 0};
    sws_scale(v->sws, src, stride, 0, v->enc->height, v->frame->data, v->frame->linesize);
    v->frame->pts = v->next_pts++;
    return encode(v, v->frame, err, n);
}

int venc_close(venc *v, char *err, size_t n)
{
    if (!v)
        return 0;
    int status = 0;
    if (v->header_written) {
        if (encode(v, NULL, err, n) != 0)
            status = -1;
        int rc = av_write_trailer(v->fmt);
        if (rc < 0 && status == 0) {
            av_message(err, n, "cannot finish", v->path, rc);
            status = -1;
        }
        if (v->fmt->pb) {
            avio_flush(v->fmt->pb);
            if (v->fmt->pb->error < 0 && status == 0) {
                av_message(err, n, "cannot write", v->path, v->fmt->pb->error);
                status = -1;
            }
        }
    }
    free_all(v);
    return status;
}

int64_t venc_frames(const venc *v)
{
    return v->next_pts;
}
