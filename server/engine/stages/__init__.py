"""The four stages of a run, one module each, sharing `context.StageContext`."""
