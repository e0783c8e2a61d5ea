"""Getting people and places in: import files of grids, departments and users, and the Nan'an demo."""
