"""What decides whether, when and how often a request is sent: retries, the retry
budget, deadlines and the rate limiter (in process and shared through Redis).
"""
