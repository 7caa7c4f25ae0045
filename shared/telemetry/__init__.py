"""What the app tells its operators: metrics (metrics.py), with logs configured in shared/logs.py."""
