"""Mitsuba 3 / Dr.Jit render backend: variant choice, scene construction, differentiable renders."""
