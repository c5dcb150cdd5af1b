"""Realism check (``peerpres realism``): our opening contexts against plain real-work ones, judged pairwise."""
