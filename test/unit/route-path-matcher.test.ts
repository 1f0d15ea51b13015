import { describe, expect, it } from 'vitest';
import { routePathMatcher } from '../../local/server.js';

describe('the local API Gateway stand-in: route paths', () => {
  it('matches a path without parameters exactly', () => {
    const match = routePathMatcher('/v1/mfa/verify');
    expect(match('/v1/mfa/verify')).toEqual({});
    expect(match('/v1/mfa/verify/')).toBeNull();
    expect(match('/v1/mfa/verifyx')).toBeNull();
    expect(match('/v1/mfa')).toBeNull();
  });

  it('gives each {name} one decoded segment', () => {
    const match = routePathMatcher('/v1/mfa/authenticators/{authenticatorId}');
    expect(match('/v1/mfa/authenticators/abc-123')).toEqual({ authenticatorId: 'abc-123' });
    expect(match('/v1/mfa/authenticators/a%20b')).toEqual({ authenticatorId: 'a b' });
    expect(match('/v1/mfa/authenticators/a/b')).toBeNull();
    expect(match('/v1/mfa/authenticators/')).toBeNull();
  });

  it('refuses a segment that is not valid percent-encoding', () => {
    expect(routePathMatcher('/v1/admin/users/{userId}/mfa')('/v1/admin/users/%E0%A4%A/mfa')).toBeNull();
  });

  it('treats the template as text, not as a regular expression', () => {
    const match = routePathMatcher('/.well-known/jwks.json');
    expect(match('/.well-known/jwks.json')).toEqual({});
    expect(match('/.well-known/jwksxjson')).toBeNull();
    expect(routePathMatcher('/v1/a.b/{id}')('/v1/aXb/1')).toBeNull();
  });
});
