"""The built-in stages, one package each: its config class, stage, model code and tests.

Each package registers itself when imported; the engine finds them through the
``discourse.stages`` entry points (see docs/plugins.md), exactly as it finds plug-ins.
"""
