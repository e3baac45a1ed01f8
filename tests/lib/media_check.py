"""Checks on decoded media shared by the codec tests: the tone a player hears
(FFT), what ffmpeg decodes from an RTMP URL, a server's transcoders, and a
named step for the case's time-out."""
import asyncio
import contextlib
import os
import subprocess

import numpy

from lcserver import step
from rtc_client import dominant_hz


@contextlib.contextmanager
def stage(what):
    step(what)  # a time-out names it
    yield


def near(hz, want):
    return hz is not None and abs(hz - want) < want * 0.03


async def heard(p, want_hz, seconds=5):
    """>= 50 audio frames and >= 50 video frames in `seconds`, the tone at want_hz."""
    a0, v0 = p.audio_frames, p.video_frames
    await asyncio.sleep(seconds)
    a, v = p.audio_frames - a0, p.video_frames - v0
    assert a >= 50, "%d audio frames in %d s" % (a, seconds)
    assert v >= 50, "%d video frames in %d s" % (v, seconds)
    hz = dominant_hz(p.pcm)
    assert near(hz, want_hz), "the player hears %s Hz, the source plays %.0f Hz" % (hz, want_hz)


def transcoders(s, source=None):
    return [t for t in s.rest("transcoder/find_all")["transcoders"] if source is None or t["source"] == source]


def rtmp_listen(url, seconds, workdir, spawn=subprocess.Popen):
    """ffmpeg plays the RTMP URL for `seconds`: (video frames, mono s16 48 kHz audio, stderr)."""
    wav = os.path.join(workdir, "listen-%d.raw" % os.getpid())
    p = spawn(["ffmpeg", "-nostdin", "-v", "error", "-progress", "pipe:1", "-rw_timeout", "8000000",
               "-t", str(seconds), "-i", url,
               "-map", "0:v?", "-f", "null", "-", "-map", "0:a", "-ac", "1", "-ar", "48000", "-f", "s16le", "-y", wav],
              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=seconds + 20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    frames = [int(line.split("=")[1]) for line in out.decode().splitlines() if line.startswith("frame=")]
    pcm = numpy.fromfile(wav, dtype=numpy.int16) if os.path.exists(wav) else numpy.zeros(0, numpy.int16)
    if os.path.exists(wav):
        os.unlink(wav)
    return (frames[-1] if frames else 0), pcm, err.decode()


def pcm_hz(pcm, rate=48000, least=None):
    """The strongest frequency of the last 2 s of mono samples (None under 0.5 s, or `least` samples)."""
    if len(pcm) < (least or rate // 2):
        return None
    x = pcm[-rate * 2:].astype(numpy.float64)
    spec = numpy.abs(numpy.fft.rfft(x * numpy.hanning(len(x))))
    spec[0] = 0
    return float(numpy.argmax(spec)) * rate / len(x)


def tone_ok(pcm, want, rate=48000, window=0.25, share=0.6):
    """Is the tone at `want` Hz (+-3%) the strongest in most (share) 250 ms windows of the last 3 s? A wrong
    pipeline fails every window; a short glitch of a loaded machine (a late publisher) only a few."""
    x = pcm[-rate * 3:]
    n = int(rate * window)
    hz = [pcm_hz(x[i:i + n], rate, n) for i in range(0, len(x) - n + 1, n)]
    good = sum(1 for h in hz if near(h, want))
    return len(hz) >= 4 and good >= share * len(hz), hz
