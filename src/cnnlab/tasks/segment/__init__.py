"""Segmentation (2-D and 3-D): U-Net / FCN training, Dice + cross-entropy, IoU and Dice."""
