"""The process pool and its child: the only road to the gate and the retouch."""
