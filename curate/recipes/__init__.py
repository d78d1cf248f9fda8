"""Recipes: YAML lists of curation steps, run resumably under a run directory."""

from curate.recipes.recipe import Recipe, load_recipe
from curate.recipes.runner import StepReport, run_recipe

__all__ = ["Recipe", "StepReport", "load_recipe", "run_recipe"]
