"""The engine: the one training loop on Lightning Fabric, run folders (create, save, load,
resume), precision choice, the learning-rate schedule, progress and logs. It knows nothing of
images, masks or text: a task supplies them."""
