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
