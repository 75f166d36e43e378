"""The HTTP side: JSON API, pages, join links, public session info, results and own scenarios."""
