"""Model kinds that no one stage owns: a Hugging Face sequence classifier (``hf_classifier``)
and the numpy heads on encoder features. Stage-specific kinds live in their stage package."""
