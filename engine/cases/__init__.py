"""Use cases on cases and tasks: filing, claiming, completing, assigning, comments, attachments, 督办."""
