"""`python -m train ...` (and `accelerate launch -m train ...`) run the `train` command."""

from train.cli import app

app(prog_name="train")
