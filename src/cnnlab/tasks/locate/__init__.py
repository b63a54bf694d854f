"""Locating an object on a table from a camera image, and grasping it (cnnlab locate, grasp)."""
