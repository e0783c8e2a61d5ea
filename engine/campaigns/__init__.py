"""Campaigns: top-down tasks sent to every grid of an area, one assignment per grid, each run on its own workflow."""
