"""Read queries: a case as shown, task inboxes and case search, paged by cursor."""
