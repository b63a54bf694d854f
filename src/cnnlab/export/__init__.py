"""A run as a file other programs can run: ONNX export (`onnx_export`, needs torch and onnx)
checked at once with onnxruntime, and inference on the exported file (`onnx_predict`, needs
onnxruntime, numpy and Pillow only: no torch).

The preprocessing a model needs travels in the ONNX file's metadata (`metadata_props`):

- `cnnlab.format` = "cnnlab-onnx", `cnnlab.version`: what wrote it;
- `cnnlab.task` (classify, segment, autoencode), `cnnlab.model`, `cnnlab.run`, `cnnlab.data`
  (where the training data came from) and `cnnlab.dataset` (its name or folder, as given);
- `cnnlab.input`: JSON {"channels", "size" (H, W) or (D, H, W), "mean", "std", "scale"}: the
  network takes float32 (N, channels, *size) = (pixel * scale - mean) / std per channel,
  pixel in 0..255, scale 1/255;
- `cnnlab.classes`: JSON list of class names (the output's channels, in order);
- `cnnlab.source`: SHA-256 of the run's model.json and model.safetensors, so `cnnlab predict
  RUN` uses RUN/model.onnx only while it matches the run's present weights.
"""

FORMAT = "cnnlab-onnx"
KEY = "cnnlab."  # prefix of every metadata key cnnlab writes
