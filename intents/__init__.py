"""Intent router of 问政助手: Rasa NLU training data, keyword rules and the native model."""
