"""What learners did with the course: lesson funnel, quiz item analysis, role-play paths."""
