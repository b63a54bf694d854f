"""Audio features against librosa (float64): the mel filterbank, the mel power spectrogram and
MFCCs; SpecAugment's masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlab.data.audio import FeatureConfig, LogMel, dct_matrix, mel_filterbank, spec_augment

librosa = pytest.importorskip("librosa")


@pytest.mark.parametrize(
    "n_fft,n_mels,fmin,fmax", [(512, 40, 20.0, 7600.0), (400, 64, 0.0, 8000.0)]
)
def test_the_filterbank_is_librosas(n_fft, n_mels, fmin, fmax):
    ours = mel_filterbank(16000, n_fft, n_mels, fmin, fmax)
    ref = librosa.filters.mel(sr=16000, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax,
                              dtype=np.float64)  # fmt: skip
    assert ours.shape == ref.shape and np.allclose(ours, ref, rtol=1e-5, atol=1e-12)


def test_mel_power_and_mfcc_are_librosas_in_float64():
    y = np.random.default_rng(0).standard_normal(16000) * 0.1
    y[4000:6000] += np.sin(np.arange(2000) * 0.3)  # a tone in the noise
    ours = LogMel().double().power(torch.from_numpy(y)[None])[0].numpy()
    ref = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=160,
                                         win_length=480, window="hann", center=True,
                                         pad_mode="constant", power=2.0, n_mels=40, fmin=20,
                                         fmax=7600)  # fmt: skip
    assert ours.shape == ref.shape == (40, 101)
    assert np.abs(ours - ref).max() <= 1e-5 * np.abs(ref).max()
    mfcc = LogMel(FeatureConfig(mfcc=13)).double()(torch.from_numpy(y)[None])[0, 0].numpy()
    db = librosa.power_to_db(ref, ref=1.0, amin=1e-10, top_db=None)
    assert np.allclose(mfcc, librosa.feature.mfcc(S=db, n_mfcc=13), rtol=1e-5, atol=1e-5)


def test_log_mel_shapes_and_the_dct_is_orthonormal():
    feats = LogMel()(torch.zeros(3, 16000))
    assert feats.shape == (3, 1, 40, 101) and torch.allclose(
        feats, torch.tensor(np.log(1e-6)).float()
    )
    d = dct_matrix(40, 40)
    assert np.allclose(d @ d.T, np.eye(40), atol=1e-12)
    with pytest.raises(ValueError, match="fmin < fmax"):
        mel_filterbank(16000, 512, 40, 9000.0)


def test_spec_augment_masks_bands_and_spans_to_the_mean():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 1, 40, 101)
    out = spec_augment(x, 1, 8, 1, 20, generator=g)
    changed = (out != x)[:, 0]
    assert changed.any() and out.shape == x.shape
    for i in range(8):  # what changed is whole mel bands or whole frames, set to the mean
        rows, cols = changed[i].all(dim=1), changed[i].all(dim=0)
        assert (changed[i] == (rows[:, None] | cols[None, :])).all()
        assert rows.sum() <= 8 and cols.sum() <= 20
        assert torch.allclose(out[i, 0][changed[i]], x[i].mean().expand(int(changed[i].sum())))
    assert torch.equal(spec_augment(x, 0, 8, 0, 20), x)


def test_warp_mels_moves_a_band_by_the_stretch_and_zero_leaves_it_alone():
    from cnnlab.data.audio import warp_mels

    f = torch.zeros(64, 1, 40, 5)
    f[:, :, 20] = 1.0  # one bright band
    assert torch.equal(warp_mels(f, 0.0), f)
    w = warp_mels(f, 0.2, generator=torch.Generator().manual_seed(0))
    assert w.shape == f.shape
    peaks = w[:, 0, :, 0].argmax(dim=1)  # band 20 is read at 20 * factor: it lands at 20 / factor
    assert peaks.min() >= 16 and peaks.max() <= 25 and len(set(peaks.tolist())) > 3
    assert torch.allclose(w.sum(dim=2), w.sum(dim=2)[:1].expand_as(w.sum(dim=2)), atol=2.0)


def test_lowpass_removes_what_lies_above_the_cutoff_in_its_share_of_clips():
    from cnnlab.data.audio import lowpass

    t = torch.arange(16000) / 16000
    x = torch.sin(2 * torch.pi * 6000 * t)[None].repeat(8, 1) + torch.sin(2 * torch.pi * 500 * t)
    assert torch.equal(lowpass(x, 0.0), x)
    y = lowpass(x, 1.0, low=3400, high=5000, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(y, torch.sin(2 * torch.pi * 500 * t).expand(8, -1), atol=1e-2)


def test_shift_moves_each_clip_within_its_range_and_keeps_its_samples():
    from cnnlab.data.audio import shift

    x = torch.zeros(16, 16000)
    x[:, 8000] = 1.0
    y = shift(x, 0.1, generator=torch.Generator().manual_seed(0))
    where = y.argmax(dim=1)
    assert (y.sum(dim=1) == 1).all() and (where - 8000).abs().max() <= 1600
    assert len(set(where.tolist())) > 4
