package optim

// WarmupLinear is the learning-rate factor of sentence-transformers'
// "WarmupLinear" scheduler, transformers.get_linear_schedule_with_warmup: it
// rises linearly from 0 to 1 over the first warmupSteps steps, then falls
// linearly to 0 at totalSteps and stays 0 after. step counts the optimizer
// steps already taken (0 for the first step; the scheduler steps after the
// optimizer), so the learning rate of step k is baseLR·WarmupLinear(k, …).
func WarmupLinear(step, warmupSteps, totalSteps int) float64 {
	if step < warmupSteps {
		return float64(step) / float64(max(1, warmupSteps))
	}
	return max(0, float64(totalSteps-step)/float64(max(1, totalSteps-warmupSteps)))
}
