"""Learning: the trainee's lessons, quizzes, role-plays and certificates, and the one door that records them."""
