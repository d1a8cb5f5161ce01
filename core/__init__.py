"""Self-Distillation Lab core: data, models, methods, trainer, evaluation, store. Never imports streamlit."""
