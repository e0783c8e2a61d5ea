"""Gridflow's engine: cases, workflows, deadlines and timelines, free of any web framework."""
