"""Errors of the intent package.

IntentError
 ├── NluFormatError      the NLU YAML is not valid Rasa 3.x NLU training data
 ├── ModelNotTrained     a classifier was asked to predict before it was fitted
 └── ModelLoadError      a saved model is missing, unreadable or of another format
"""


class IntentError(Exception):
    pass


class NluFormatError(IntentError):
    pass


class ModelNotTrained(IntentError):
    pass


class ModelLoadError(IntentError):
    pass
