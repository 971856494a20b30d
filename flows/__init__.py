"""Use cases that cross the domains, read top to bottom: the layer above every domain and below the entry
points (web, Celery, CLI). A domain never imports it; the ticket core reaches it only through the
`tickets.life.TicketLife` it is handed at start-up."""
