"""Insights: the event log of searches, calls and customer feedback, and what is learnt from it
(retention, usage counts, knowledge gaps, reports). Sits below `search`, above `articles`."""
