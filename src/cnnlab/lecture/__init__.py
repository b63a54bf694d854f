"""The lecture as a book of runs (`cnnlab lecture`): every slide's point, the cnnlab command
that shows it, and what it measures on this machine, beside the lecture's claim."""
