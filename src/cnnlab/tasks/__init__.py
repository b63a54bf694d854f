"""Tasks: one folder per task (classify, segment, autoencode, transfer), each with its config,
data binding, loss and metrics, predict and report section."""
