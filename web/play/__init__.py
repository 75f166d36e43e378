"""A class's play: sessions, seats, rounds and what each client sees, over the store and the game."""
