"""Autoencoders: plain, convolutional, denoising and variational; PSNR and SSIM."""
