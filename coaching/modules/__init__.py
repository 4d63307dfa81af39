"""Training modules: authoring, versions, quizzes, completions and recommendation."""
