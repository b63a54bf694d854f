"""Audio features for keyword spotting, batched in torch: the log-mel spectrogram (our own mel
filterbank, the Slaney formulas librosa uses by default), MFCCs, and SpecAugment's time and
frequency masks (Park et al., 2019).

    feats = LogMel()(clips)     # (B, 16000) float waveforms -> (B, 1, 40 mels, 101 frames)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

RATE = 16_000


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    log_part = 15.0 + 27.0 * np.log(np.maximum(f, 1e-10) / 1000.0) / math.log(6.4)
    return np.where(f >= 1000.0, log_part, 3.0 * f / 200.0)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp(math.log(6.4) / 27.0 * (m - 15.0)), 200.0 * m / 3.0)


def mel_filterbank(rate: int = RATE, n_fft: int = 512, n_mels: int = 40, fmin: float = 20.0,
                   fmax: float | None = None) -> np.ndarray:  # fmt: skip
    """Triangular mel filters over the FFT bins, each normalised to unit area (Slaney).
    Shapes: -> (n_mels, n_fft // 2 + 1) float64."""
    fmax = rate / 2 if fmax is None else fmax
    if not 0 <= fmin < fmax <= rate / 2:
        raise ValueError(f"need 0 <= fmin < fmax <= {rate / 2}, got {fmin}, {fmax}")
    bins = np.linspace(0, rate / 2, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]


def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The orthonormal DCT-II as a matrix. Shapes: -> (n_out, n_in)."""
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    m = np.cos(np.pi / n_in * (n + 0.5) * k) * math.sqrt(2.0 / n_in)
    m[0] /= math.sqrt(2.0)
    return m


@dataclass(frozen=True)
class FeatureConfig:
    """n_fft: FFT size; window: samples per frame (30 ms); hop: samples between frames
    (10 ms); n_mels: mel bands; fmin, fmax: their range in Hz; mfcc: 0 for log-mel, else the
    number of cepstral coefficients."""

    n_fft: int = 512
    window: int = 480
    hop: int = 160
    n_mels: int = 40
    fmin: float = 20.0
    fmax: float = 7600.0
    mfcc: int = 0


class LogMel(nn.Module):
    """Waveforms -> log-mel spectrogram (natural log of power + 1e-6), or MFCCs of its
    dB version. Shapes: (B, samples) -> (B, 1, n_mels or mfcc, 1 + samples // hop)."""

    def __init__(self, cfg: FeatureConfig | None = None, rate: int = RATE) -> None:
        super().__init__()
        self.cfg = cfg = cfg or FeatureConfig()
        fb = mel_filterbank(rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax)
        self.register_buffer("filters", torch.from_numpy(fb).float(), persistent=False)
        self.register_buffer("window", torch.hann_window(cfg.window), persistent=False)
        dct = dct_matrix(cfg.n_mels, cfg.mfcc) if cfg.mfcc else np.zeros((0, cfg.n_mels))
        self.register_buffer("dct", torch.from_numpy(dct).float(), persistent=False)

    def power(self, x: torch.Tensor) -> torch.Tensor:
        """The mel power spectrogram. Shapes: (B, samples) -> (B, n_mels, frames)."""
        c = self.cfg
        spec = torch.stft(x, c.n_fft, c.hop, c.window, self.window.to(x.dtype), center=True,
                          pad_mode="constant", return_complex=True)  # fmt: skip
        return self.filters.to(x.dtype) @ spec.abs().square()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mel = self.power(x)
        if self.cfg.mfcc:
            db = 10.0 * torch.log10(mel.clamp_min(1e-10))
            return (self.dct.to(x.dtype) @ db)[:, None]
        return torch.log(mel + 1e-6)[:, None]


def spec_augment(feats: torch.Tensor, freq_masks: int = 2, freq_width: int = 8,
                 time_masks: int = 2, time_width: int = 20,
                 generator: torch.Generator | None = None) -> torch.Tensor:  # fmt: skip
    """SpecAugment's masks, each example its own: `freq_masks` bands of up to `freq_width` mel
    bins and `time_masks` spans of up to `time_width` frames set to the example's mean.
    Shapes: (B, 1, F, T) -> (B, 1, F, T)."""
    b, _, f, t = feats.shape
    keep = torch.ones(b, f, t, dtype=torch.bool, device=feats.device)
    for size, width, count, axis in (
        (f, freq_width, freq_masks, 1),
        (t, time_width, time_masks, 2),
    ):
        for _ in range(count):
            w = torch.randint(0, width + 1, (b, 1), generator=generator)
            start = (torch.rand(b, 1, generator=generator) * (size - w + 1)).long()
            pos = torch.arange(size)[None]
            band = ((pos >= start) & (pos < start + w)).to(feats.device)  # (B, size)
            keep &= ~(band[:, :, None] if axis == 1 else band[:, None, :])
    mean = feats.mean(dim=(1, 2, 3), keepdim=True)
    return torch.where(keep[:, None], feats, mean)


NOISES = ("white", "pink", "babble")


def pink_noise(n: int, length: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Noise whose power falls as 1/f (white noise shaped in the frequency domain), unit RMS.
    Shapes: -> (n, length)."""
    spec = torch.fft.rfft(torch.randn(n, length, generator=generator), dim=1)
    f = torch.arange(spec.shape[1], dtype=torch.float32)
    x = torch.fft.irfft(spec / f.clamp_min(1.0).sqrt(), n=length, dim=1)
    return x / x.pow(2).mean(dim=1, keepdim=True).sqrt().clamp_min(1e-8)


def mix_noise(clips: torch.Tensor, snr_db: torch.Tensor, kinds: torch.Tensor,
              speech: torch.Tensor, generator: torch.Generator | None = None,
              silent_rms: tuple[float, float] = (0.003, 0.1)) -> torch.Tensor:  # fmt: skip
    """Each clip plus noise of its kind (an index into NOISES) at its SNR in dB; babble is the
    sum of 4 random clips of `speech` (other voices' words). A clip without signal (silence)
    gets noise at a random RMS in `silent_rms`. Shapes: clips (B, T) float, snr_db (B,),
    kinds (B,) int, speech (N, T) -> (B, T)."""
    b, t = clips.shape
    white = torch.randn(b, t, generator=generator)
    white = white / white.pow(2).mean(dim=1, keepdim=True).sqrt()
    pink = pink_noise(b, t, generator)
    pick = torch.randint(0, len(speech), (b, 4), generator=generator)
    babble = speech[pick].float().sum(dim=1)
    babble = babble / babble.pow(2).mean(dim=1, keepdim=True).sqrt().clamp_min(1e-8)
    noise = torch.stack([white, pink, babble], dim=1)[torch.arange(b), kinds]  # unit RMS each
    power = clips.pow(2).mean(dim=1)
    rms = (power / 10 ** (snr_db / 10)).sqrt()
    lo, hi = silent_rms
    quiet = lo * (hi / lo) ** torch.rand(b, generator=generator)  # log-uniform
    rms = torch.where(power > 1e-10, rms, quiet)
    return clips + noise * rms[:, None]


def warp_mels(feats: torch.Tensor, amount: float,
              generator: torch.Generator | None = None) -> torch.Tensor:  # fmt: skip
    """Each example's mel axis stretched by its own factor in [1 - amount, 1 + amount]
    (linear interpolation between bands; the top band repeats where the stretch runs out):
    formants move up or down as between a longer and a shorter vocal tract, the idea of
    vocal tract length perturbation (Jaitly and Hinton, 2013). Shapes: (B, C, F, T) -> same."""
    if amount <= 0:
        return feats
    b, c, f, t = feats.shape
    factor = 1 - amount + 2 * amount * torch.rand(b, generator=generator)
    pos = (torch.arange(f, dtype=torch.float32)[None] * factor[:, None]).clamp(0, f - 1)
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=f - 1)
    w = (pos - lo).to(feats.dtype)[:, None, :, None]

    def rows(i: torch.Tensor) -> torch.Tensor:
        return feats.gather(2, i[:, None, :, None].expand(b, c, f, t).to(feats.device))

    return rows(lo) * (1 - w.to(feats.device)) + rows(hi) * w.to(feats.device)


def lowpass(clips: torch.Tensor, share: float, low: float = 3400.0, high: float = 8000.0,
            generator: torch.Generator | None = None) -> torch.Tensor:  # fmt: skip
    """A random `share` of the clips low-passed at a cutoff drawn from [low, high] Hz (an
    ideal filter in the frequency domain): telephone-band and 8 kHz recordings, heard in
    training. Shapes: (B, T) -> (B, T)."""
    if share <= 0:
        return clips
    b, t = clips.shape
    cut = low + (high - low) * torch.rand(b, generator=generator)
    cut = torch.where(torch.rand(b, generator=generator) < share, cut, torch.full((b,), 1e9))
    spec = torch.fft.rfft(clips, dim=1)
    freqs = torch.fft.rfftfreq(t, 1 / RATE)
    return torch.fft.irfft(spec * (freqs[None] <= cut[:, None]), n=t, dim=1)


def shift(clips: torch.Tensor, seconds: float,
          generator: torch.Generator | None = None) -> torch.Tensor:  # fmt: skip
    """Each clip moved in time by its own random amount up to `seconds` either way, wrapping
    around (the clips are mostly silence at the ends). Shapes: (B, T) -> (B, T)."""
    if seconds <= 0:
        return clips
    b, t = clips.shape
    most = int(seconds * RATE)
    by = torch.randint(-most, most + 1, (b, 1), generator=generator)
    return clips.gather(1, (torch.arange(t)[None] - by) % t)
