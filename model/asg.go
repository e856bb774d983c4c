package model

func (l *loader) readASG(t *tab) {
	name, named := l.readName(t)
	t.unknown(keysASG, nil)
	if !named {
		return
	}
	a := &ASG{Name: name, Pos: t.hpos()}
	if l.asgs.define(l, name, t, a) {
		l.env.ASGs = append(l.env.ASGs, a)
	}
}
