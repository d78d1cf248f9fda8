"""`accelerate launch` configs (YAML) for multi-GPU runs; a package so they ship with prefkit."""
