"""Database helpers below every app (no app models): statements written once per connection."""
