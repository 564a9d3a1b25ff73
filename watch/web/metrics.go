package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/inkform/inkform/watch"
)

// metrics are the page's Prometheus collectors: the fleet as Fleet gives
// it at each scrape, the engine's counters, and the durations the watch
// process reports through ObservePoll and ObservePlan.
type metrics struct {
	s        *Server
	reg      *prometheus.Registry
	poll     prometheus.Histogram
	plan     prometheus.Histogram
	printers *prometheus.Desc
	supply   *prometheus.Desc
	active   *prometheus.Desc
	counters []counterDesc
}

type counterDesc struct {
	desc *prometheus.Desc
	get  func(watch.Stats) int64
}

func newMetrics(s *Server) *metrics {
	buckets := []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}
	m := &metrics{s: s,
		poll: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "inkform_poll_duration_seconds",
			Help: "How long one poll of the whole fleet took.", Buckets: buckets}),
		plan: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "inkform_plan_duration_seconds",
			Help: "How long one drift check (a plan of the whole fleet) took.", Buckets: buckets}),
		printers: prometheus.NewDesc("inkform_printers", "Declared printers by status.", []string{"status"}, nil),
		supply: prometheus.NewDesc("inkform_supply_level_percent", "Supply level in percent of its capacity; supplies whose level is not known are left out.",
			[]string{"printer", "supply"}, nil),
		active: prometheus.NewDesc("inkform_active_alerts", "Alerts raised and not cleared.", nil, nil),
	}
	for _, c := range []struct {
		name, help string
		get        func(watch.Stats) int64
	}{
		{"signals_received", "Alert signals the sources delivered.", func(st watch.Stats) int64 { return st.Received }},
		{"signals_duplicate", "Signals that changed nothing.", func(st watch.Stats) int64 { return st.Duplicates }},
		{"signals_dropped", "Signals dropped because the intake queue was full or the engine stopping.", func(st watch.Stats) int64 { return st.IntakeDropped }},
		{"events_lost", "Accepted events that could not be recorded when stopping.", func(st watch.Stats) int64 { return st.IntakeLost }},
		{"events_recorded", "Events recorded in state.", func(st watch.Stats) int64 { return st.EventsRecorded }},
		{"events_routed", "Events routed by this process.", func(st watch.Stats) int64 { return st.Routed }},
		{"deliveries_created", "Deliveries this process created.", func(st watch.Stats) int64 { return st.Deliveries }},
		{"messages_sent", "Emails sent.", func(st watch.Stats) int64 { return st.Messages }},
		{"deliveries_sent", "Deliveries sent (a digest carries several).", func(st watch.Stats) int64 { return st.Sent }},
		{"deliveries_suppressed", "Deliveries suppressed by grace, silence or inhibition.", func(st watch.Stats) int64 { return st.Suppressed }},
		{"deliveries_failed", "Deliveries refused for good.", func(st watch.Stats) int64 { return st.Failed }},
		{"delivery_retries", "Deliveries released to be tried again.", func(st watch.Stats) int64 { return st.Retries }},
		{"deliveries_postponed", "Deliveries held back by group_interval.", func(st watch.Stats) int64 { return st.Postponed }},
		{"delivery_claims_lost", "Finishes refused because the claim ran out.", func(st watch.Stats) int64 { return st.ClaimsLost }},
		{"polls", "Poll cycles.", func(st watch.Stats) int64 { return st.Polls }},
	} {
		m.counters = append(m.counters, counterDesc{prometheus.NewDesc("inkform_"+c.name+"_total", c.help, nil, nil), c.get})
	}
	return m
}

// register adds the collectors to reg, or to a registry of their own.
func (m *metrics) register(reg *prometheus.Registry) error {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m.reg = reg
	for _, c := range []prometheus.Collector{m.poll, m.plan, m} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil})
}

// Describe is part of prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.printers
	ch <- m.supply
	ch <- m.active
	for _, c := range m.counters {
		ch <- c.desc
	}
}

// Collect is part of prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	views := m.s.cfg.Fleet()
	by := map[string]int{}
	for _, st := range statuses {
		by[st] = 0
	}
	for i := range views {
		v := &views[i]
		by[viewStatus(v)]++
		if v.Observation == nil {
			continue
		}
		seen := map[string]int{}
		for _, sp := range v.Observation.Supplies {
			label := supplyName(sp.Description, sp.Color, sp.Kind)
			seen[label]++
			if n := seen[label]; n > 1 {
				label += " #" + strconv.Itoa(n)
			}
			if p := sp.Percent(); p >= 0 {
				ch <- prometheus.MustNewConstMetric(m.supply, prometheus.GaugeValue, float64(p), v.Printer.Name, label)
			}
		}
	}
	for st, n := range by {
		ch <- prometheus.MustNewConstMetric(m.printers, prometheus.GaugeValue, float64(n), st)
	}
	total := 0
	for _, n := range m.s.activeCounts(context.Background()) {
		total += n
	}
	ch <- prometheus.MustNewConstMetric(m.active, prometheus.GaugeValue, float64(total))
	if m.s.cfg.Stats != nil {
		st := m.s.cfg.Stats()
		for _, c := range m.counters {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(c.get(st)))
		}
	}
}

// supplyName names a supply in a label: its description, else its
// colour and kind.
func supplyName(desc, color, kind string) string {
	if desc != "" {
		return desc
	}
	if color != "" {
		return fmt.Sprintf("%s %s", color, kind)
	}
	if kind != "" {
		return kind
	}
	return "supply"
}

// ObservePoll records how long one poll of the fleet took; the watch
// process calls it after each.
func (s *Server) ObservePoll(d time.Duration) { s.metrics.poll.Observe(d.Seconds()) }

// ObservePlan records how long one drift check took.
func (s *Server) ObservePlan(d time.Duration) { s.metrics.plan.Observe(d.Seconds()) }
