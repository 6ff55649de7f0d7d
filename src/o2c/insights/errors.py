from o2c.core.errors import O2CError


class InsightsError(O2CError):
    """A refusal of the insights module: training, models or forecasts."""
