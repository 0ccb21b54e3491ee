"""Cases: the 吹哨报到 / 接诉即办 closed loop. ``workflow`` and ``worktime`` are pure engines."""
